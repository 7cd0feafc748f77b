;; initloop.wat: its hookd_v1_init never returns.
;; Expected outcome: refused at load, by serve and by plugin check alike,
;; once hostapi.InitTimeout (5 s) has passed: "plugin does not start:
;; hookd_v1_init: … deadline exceeded".
;; Rebuild: wat2wasm initloop.wat -o initloop.wasm
(module
  (memory (export "memory") 1)
  (func (export "hookd_v1_init") (result i32)
    (loop $forever (br $forever))
    (i32.const 0))
  (func (export "hookd_v1_on_event") (result i32)
    (i32.const 0)))
