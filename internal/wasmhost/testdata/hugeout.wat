;; hugeout.wat: sets a 1 MiB reply, ignores the refusal and returns 0.
;; Expected outcome: error "plugin reply too large: it tried to set 1048576
;; bytes, limit 16384"; the instance is discarded.
;; Rebuild: wat2wasm hugeout.wat -o hugeout.wasm
(module
  (import "hookd_v1" "reply_set" (func $reply_set (param i32 i32) (result i32)))
  (memory (export "memory") 17)
  (func (export "hookd_v1_on_event") (result i32)
    (drop (call $reply_set (i32.const 0) (i32.const 1048576)))
    (i32.const 0)))
