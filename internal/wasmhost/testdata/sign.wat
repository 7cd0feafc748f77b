;; sign.wat: reads a key name from its config ({"key":"relay.pem"}: the text
;; between the third and fourth double quote), checks that jwt_sign refuses
;; claims setting exp, then signs {"sub":"plugin"} with the key and replies
;; with the token (or "E" and the error's digit: "E5" for ERR_DENIED).
;; Expected outcome: status 0 and a token verifying with the key's public
;; key, with iat, exp = iat + 300 and jti = EVENT_ID (the first jwt_sign
;; returning ERR_BAD_ARGUMENT); status 2 and "exp claim not refused" if
;; jwt_sign accepted exp.
;; Rebuild: wat2wasm sign.wat -o sign.wasm
(module
  (import "hookd_v1" "config_read" (func $config_read (param i32 i32) (result i32)))
  (import "hookd_v1" "jwt_sign" (func $jwt_sign (param i32 i32 i32 i32) (result i32)))
  (import "hookd_v1" "result_read" (func $result_read (param i32 i32) (result i32)))
  (import "hookd_v1" "reply_set" (func $reply_set (param i32 i32) (result i32)))
  (import "hookd_v1" "error_set" (func $error_set (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; 0: the config (1 KiB), 1024 and 1040: claims, 1100: message,
  ;; 2048: short replies, 4096: the token (up to 60 KiB)
  (data (i32.const 1024) "{\22exp\22:1}")
  (data (i32.const 1040) "{\22sub\22:\22plugin\22}")
  (data (i32.const 1100) "exp claim not refused")

  (func $error (param $status i32) (result i32)
    (i32.store8 (i32.const 2048) (i32.const 69)) ;; 'E'
    (i32.store8 (i32.const 2049) (i32.sub (i32.const 48) (local.get $status)))
    (drop (call $reply_set (i32.const 2048) (i32.const 2)))
    (i32.const 0))

  (func (export "hookd_v1_on_event") (result i32)
    (local $n i32)
    (local $i i32)
    (local $quotes i32)
    (local $start i32)
    (local $end i32)
    (local.set $n (call $config_read (i32.const 0) (i32.const 1024)))
    (if (i32.gt_s (local.get $n) (i32.const 1024)) (then (return (i32.const 2))))
    ;; the key name: between the third and the fourth '"'
    (block $found
      (loop $scan
        (br_if $found (i32.ge_s (local.get $i) (local.get $n)))
        (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 34))
          (then
            (local.set $quotes (i32.add (local.get $quotes) (i32.const 1)))
            (if (i32.eq (local.get $quotes) (i32.const 3))
              (then (local.set $start (i32.add (local.get $i) (i32.const 1)))))
            (if (i32.eq (local.get $quotes) (i32.const 4))
              (then (local.set $end (local.get $i)) (br $found)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (if (i32.ne (local.get $quotes) (i32.const 4)) (then (return (i32.const 2))))
    ;; exp is the host's to set: the call must fail
    (if (i32.ge_s (call $jwt_sign (local.get $start) (i32.sub (local.get $end) (local.get $start))
                                  (i32.const 1024) (i32.const 9))
                  (i32.const 0))
      (then
        (drop (call $error_set (i32.const 1100) (i32.const 21)))
        (return (i32.const 2))))
    (local.set $n (call $jwt_sign (local.get $start) (i32.sub (local.get $end) (local.get $start))
                                  (i32.const 1040) (i32.const 16)))
    (if (i32.lt_s (local.get $n) (i32.const 0))
      (then (return (call $error (local.get $n)))))
    (if (i32.ne (call $result_read (i32.const 4096) (i32.const 61440)) (local.get $n))
      (then (return (i32.const 2))))
    (drop (call $reply_set (i32.const 4096) (local.get $n)))
    (i32.const 0)))
