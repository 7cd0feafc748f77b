;; init.wat: exports hookd_v1_init, which logs "init" and accepts only an
;; empty config ({}): otherwise it sets the error "config not accepted" and
;; returns 7, refusing the instance. Its handler writes "hello\nwor", "ld\n"
;; to WASI stdout and "oops" (no newline) to stderr, and returns 0.
;; Expected outcome: with config {}, loads (the "init" line goes to the
;; engine's logger) and each call logs stdout "hello", stdout "world",
;; stderr "oops"; with another config, Load fails with "plugin refused to
;; start: hookd_v1_init returned 7: config not accepted".
;; Rebuild: wat2wasm init.wat -o init.wasm
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "hookd_v1" "config_read" (func $config_read (param i32 i32) (result i32)))
  (import "hookd_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "hookd_v1" "error_set" (func $error_set (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "init")
  (data (i32.const 16) "config not accepted")
  (data (i32.const 64) "hello\0awor")
  (data (i32.const 80) "ld\0a")
  (data (i32.const 96) "oops")
  ;; iovecs {ptr, len}: at 256 stdout's two, at 272 stderr's one; nwritten at 300
  (data (i32.const 256) "\40\00\00\00\09\00\00\00\50\00\00\00\03\00\00\00\60\00\00\00\04\00\00\00")

  (func (export "hookd_v1_init") (result i32)
    (drop (call $log (i32.const 1) (i32.const 0) (i32.const 4)))
    (if (i32.ne (call $config_read (i32.const 512) (i32.const 256)) (i32.const 2))
      (then
        (drop (call $error_set (i32.const 16) (i32.const 19)))
        (return (i32.const 7))))
    (i32.const 0))

  (func (export "hookd_v1_on_event") (result i32)
    (drop (call $fd_write (i32.const 1) (i32.const 256) (i32.const 2) (i32.const 300)))
    (drop (call $fd_write (i32.const 2) (i32.const 272) (i32.const 1) (i32.const 300)))
    (i32.const 0)))
