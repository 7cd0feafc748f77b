;; trap.wat: traps on every call (unreachable).
;; Expected outcome: error "plugin trapped: wasm error: unreachable …"; the
;; instance is discarded.
;; Rebuild: wat2wasm trap.wat -o trap.wasm
(module
  (memory (export "memory") 1)
  (func (export "hookd_v1_on_event") (result i32)
    unreachable))
