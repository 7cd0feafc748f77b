;; logger.wat: a plugin that logs one line ("logger: seen") at info and
;; answers <nomessage/>: what the plugin-log tests of domains as data read.
;; Rebuild: wat2wasm logger.wat -o logger.wasm
(module
  (import "hookd_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "hookd_v1" "reply_set" (func $reply_set (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "logger: seen")
  (data (i32.const 16) "<nomessage/>")
  (func (export "hookd_v1_on_event") (result i32)
    (drop (call $log (i32.const 1) (i32.const 0) (i32.const 12)))
    (drop (call $reply_set (i32.const 16) (i32.const 12)))
    (i32.const 0)))
