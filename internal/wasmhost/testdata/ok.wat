;; ok.wat: the minimal guest (and the benchmark's): replies <nomessage/>.
;; Expected outcome: status 0, reply "<nomessage/>".
;; Rebuild: wat2wasm ok.wat -o ok.wasm
(module
  (import "hookd_v1" "reply_set" (func $reply_set (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "<nomessage/>")
  (func (export "hookd_v1_on_event") (result i32)
    (drop (call $reply_set (i32.const 0) (i32.const 12)))
    (i32.const 0)))
