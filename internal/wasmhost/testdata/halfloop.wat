;; halfloop.wat: each instance answers its first call at once (status 0, no
;; reply) and loops forever on its second. The deadline stops that call and
;; the instance is replaced, so one instance's calls go: ok, deadline, ok,
;; deadline, … A guest that runs out its deadline without ever tripping the
;; breaker (which backs off a plugin after 3 deadlines in a row): the
;; deadline overshoot benchmarks go through it.
;; Expected outcome: status 0, then "plugin exceeded its … deadline", in turn.
;; Rebuild: wat2wasm halfloop.wat -o halfloop.wasm
(module
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (func (export "hookd_v1_on_event") (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.eq (global.get $calls) (i32.const 2))
      (then (loop $forever (br $forever))))
    (i32.const 0)))
