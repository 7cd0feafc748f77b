;; v2.wat: a plugin for a future ABI: exports hookd_v2_on_event and imports
;; hookd_v2.log.
;; Expected outcome: refused at load, naming hookd_v2 and hookd_v1.
;; Rebuild: wat2wasm v2.wat -o v2.wasm
(module
  (import "hookd_v2" "log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "hookd_v2_on_event") (result i32)
    (drop (call $log (i32.const 1) (i32.const 0) (i32.const 0)))
    (i32.const 0)))
