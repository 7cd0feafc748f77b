;; flaky.wat: counts its calls in a global; traps on every second call of
;; an instance, otherwise replies with the count ("1").
;; Expected outcome, one instance: "1", trap, then "1" again from the fresh
;; instance that replaced the trapped one (a reused one would say "3").
;; Rebuild: wat2wasm flaky.wat -o flaky.wasm
(module
  (import "hookd_v1" "reply_set" (func $reply_set (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (func (export "hookd_v1_on_event") (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.eqz (i32.rem_u (global.get $calls) (i32.const 2)))
      (then unreachable))
    ;; the count as one digit (calls 1..9 are enough for the tests)
    (i32.store8 (i32.const 0) (i32.add (i32.const 48) (global.get $calls)))
    (drop (call $reply_set (i32.const 0) (i32.const 1)))
    (i32.const 0)))
