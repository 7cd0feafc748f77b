;; echo.wat: reads the whole event by probing (event_read with length 0,
;; then with the length it returned), logs it at info level, and drops the
;; event's session: it replies the XMLMSG
;;   <module><islLight><session id="SESSIONID"><drop/></session></islLight></module>
;; with the SESSIONID field read by event_get (also probed first). The id is
;; copied as is, so the tests use ids without XML special characters.
;; Expected outcome: status 0, that reply, one log line with the
;; form-encoded event; status 2 and an error message without SESSIONID.
;; Rebuild: wat2wasm echo.wat -o echo.wasm
(module
  (import "hookd_v1" "event_read" (func $event_read (param i32 i32) (result i32)))
  (import "hookd_v1" "event_get" (func $event_get (param i32 i32 i32 i32) (result i32)))
  (import "hookd_v1" "reply_set" (func $reply_set (param i32 i32) (result i32)))
  (import "hookd_v1" "error_set" (func $error_set (param i32 i32) (result i32)))
  (import "hookd_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 4)
  ;; 0: field name, 16: reply prefix (31 bytes), 64: reply suffix (39 bytes),
  ;; 128 and 160: error messages, 4096: the reply, 65536: the event.
  (data (i32.const 0) "SESSIONID")
  (data (i32.const 16) "<module><islLight><session id=\22")
  (data (i32.const 64) "\22><drop/></session></islLight></module>")
  (data (i32.const 128) "event_read changed length")
  (data (i32.const 160) "no SESSIONID")

  (func $copy (param $dst i32) (param $src i32) (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store8 (local.get $dst) (i32.load8_u (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))

  (func $fail (param $msg i32) (param $len i32) (result i32)
    (drop (call $error_set (local.get $msg) (local.get $len)))
    (i32.const 2))

  (func (export "hookd_v1_on_event") (result i32)
    (local $n i32)
    (local $m i32)
    ;; the event: probe its length, then read it into a buffer that fits
    (local.set $n (call $event_read (i32.const 0) (i32.const 0)))
    (if (i32.or (i32.lt_s (local.get $n) (i32.const 0))
                (i32.gt_s (local.get $n) (i32.const 196608)))
      (then (return (call $fail (i32.const 128) (i32.const 25)))))
    (if (i32.ne (call $event_read (i32.const 65536) (local.get $n)) (local.get $n))
      (then (return (call $fail (i32.const 128) (i32.const 25)))))
    (drop (call $log (i32.const 1) (i32.const 65536) (local.get $n)))
    ;; SESSIONID: probe, then read it straight after the reply's prefix
    (local.set $m (call $event_get (i32.const 0) (i32.const 9) (i32.const 0) (i32.const 0)))
    (if (i32.or (i32.lt_s (local.get $m) (i32.const 0))
                (i32.gt_s (local.get $m) (i32.const 1024)))
      (then (return (call $fail (i32.const 160) (i32.const 12)))))
    (call $copy (i32.const 4096) (i32.const 16) (i32.const 31))
    (drop (call $event_get (i32.const 0) (i32.const 9) (i32.const 4127) (local.get $m)))
    (call $copy (i32.add (i32.const 4127) (local.get $m)) (i32.const 64) (i32.const 39))
    (drop (call $reply_set (i32.const 4096) (i32.add (local.get $m) (i32.const 70))))
    (i32.const 0)))
