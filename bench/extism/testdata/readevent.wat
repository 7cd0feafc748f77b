;; readevent.wat: a hookd guest (ABI hookd_v1) that, unlike ok.wat, copies
;; the whole event into its memory before replying <nomessage/>: event_len,
;; then event_read into a 4 KiB buffer. It is the hookd counterpart of what
;; Extism always does (the SDK copies the input into the kernel's memory on
;; every call, read or not). Status 0, reply "<nomessage/>"; status 1 if the
;; event did not fit.
;;
;; Rebuild: wat2wasm readevent.wat -o readevent.wasm
(module
  (import "hookd_v1" "event_len" (func $event_len (result i32)))
  (import "hookd_v1" "event_read" (func $event_read (param i32 i32) (result i32)))
  (import "hookd_v1" "reply_set" (func $reply_set (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "<nomessage/>")
  (func (export "hookd_v1_on_event") (result i32)
    (local $n i32)
    (local.set $n (call $event_len))
    (if (i32.gt_u (local.get $n) (i32.const 4096)) (then (return (i32.const 1))))
    (if (i32.ne (call $event_read (i32.const 1024) (local.get $n)) (local.get $n))
      (then (return (i32.const 1))))
    (drop (call $reply_set (i32.const 0) (i32.const 12)))
    (i32.const 0)))
