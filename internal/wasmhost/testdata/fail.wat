;; fail.wat: fails for now: error_set, then status 1.
;; Expected outcome: no error, status 1, error "upstream not ready"; the
;; instance is kept.
;; Rebuild: wat2wasm fail.wat -o fail.wasm
(module
  (import "hookd_v1" "error_set" (func $error_set (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "upstream not ready")
  (func (export "hookd_v1_on_event") (result i32)
    (drop (call $error_set (i32.const 0) (i32.const 18)))
    (i32.const 1)))
