;; badptr.wat: calls every host function that takes a pointer with
;; pointers and lengths outside its memory (past the end, across the end,
;; wrapping around 2^32, negative lengths) and a bad log level. It returns 0
;; only if every call returned ERR_MEMORY (-2) or ERR_BAD_ARGUMENT (-1)
;; without trapping; otherwise the number of the first case that did not.
;; Expected outcome: status 0, with or without grants.
;; Rebuild: wat2wasm badptr.wat -o badptr.wasm
(module
  (import "hookd_v1" "event_read" (func $event_read (param i32 i32) (result i32)))
  (import "hookd_v1" "event_get" (func $event_get (param i32 i32 i32 i32) (result i32)))
  (import "hookd_v1" "reply_set" (func $reply_set (param i32 i32) (result i32)))
  (import "hookd_v1" "error_set" (func $error_set (param i32 i32) (result i32)))
  (import "hookd_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "hookd_v1" "config_read" (func $config_read (param i32 i32) (result i32)))
  (import "hookd_v1" "jwt_sign" (func $jwt_sign (param i32 i32 i32 i32) (result i32)))
  (import "hookd_v1" "http_request" (func $http_request (param i32 i32) (result i32)))
  (import "hookd_v1" "result_read" (func $result_read (param i32 i32) (result i32)))
  (memory (export "memory") 1) ;; 65536 bytes
  (data (i32.const 0) "SESSIONID")
  (global $failed (mut i32) (i32.const 0))
  (global $case (mut i32) (i32.const 0))

  (func $expect (param $status i32)
    (global.set $case (i32.add (global.get $case) (i32.const 1)))
    (if (i32.and (i32.ne (local.get $status) (i32.const -1))
                 (i32.ne (local.get $status) (i32.const -2)))
      (then (if (i32.eqz (global.get $failed))
        (then (global.set $failed (global.get $case)))))))

  (func (export "hookd_v1_on_event") (result i32)
    (global.set $failed (i32.const 0))
    (global.set $case (i32.const 0))
    (call $expect (call $event_read (i32.const 65536) (i32.const 1)))   ;; 1 just past the end
    (call $expect (call $event_read (i32.const 65000) (i32.const 1000))) ;; 2 across the end
    (call $expect (call $event_read (i32.const 0) (i32.const -1)))       ;; 3 negative length
    (call $expect (call $event_read (i32.const -1) (i32.const 0)))       ;; 4 pointer 0xffffffff
    (call $expect (call $event_read (i32.const -16) (i32.const 32)))     ;; 5 wraps around 2^32
    (call $expect (call $event_get (i32.const 65530) (i32.const 9) (i32.const 0) (i32.const 0)))  ;; 6
    (call $expect (call $event_get (i32.const 0) (i32.const -9) (i32.const 0) (i32.const 0)))     ;; 7
    (call $expect (call $event_get (i32.const 0) (i32.const 9) (i32.const 65535) (i32.const 2)))  ;; 8
    (call $expect (call $event_get (i32.const 0) (i32.const 9) (i32.const 0) (i32.const -1)))     ;; 9
    (call $expect (call $reply_set (i32.const 65536) (i32.const 1)))    ;; 10
    (call $expect (call $reply_set (i32.const 0) (i32.const -5)))       ;; 11
    (call $expect (call $error_set (i32.const -1) (i32.const 2)))       ;; 12
    (call $expect (call $error_set (i32.const 10) (i32.const -1)))      ;; 13
    (call $expect (call $log (i32.const 1) (i32.const 70000) (i32.const 1))) ;; 14
    (call $expect (call $log (i32.const 1) (i32.const 0) (i32.const -1)))    ;; 15
    (call $expect (call $log (i32.const 9) (i32.const 0) (i32.const 1)))     ;; 16 bad level
    (call $expect (call $log (i32.const -1) (i32.const 0) (i32.const 1)))    ;; 17 bad level
    (call $expect (call $config_read (i32.const 65535) (i32.const 100)))     ;; 18
    (call $expect (call $config_read (i32.const 0) (i32.const -100)))        ;; 19
    (call $expect (call $jwt_sign (i32.const 65536) (i32.const 4) (i32.const 0) (i32.const 2)))  ;; 20
    (call $expect (call $jwt_sign (i32.const 0) (i32.const 4) (i32.const 0) (i32.const -2)))     ;; 21
    (call $expect (call $jwt_sign (i32.const 0) (i32.const 4) (i32.const 65535) (i32.const 2)))  ;; 22
    (call $expect (call $http_request (i32.const 65536) (i32.const 2)))  ;; 23
    (call $expect (call $http_request (i32.const 0) (i32.const -1)))     ;; 24
    (call $expect (call $result_read (i32.const 65536) (i32.const 1)))   ;; 25
    (call $expect (call $result_read (i32.const 1) (i32.const -1)))      ;; 26
    (global.get $failed)))
