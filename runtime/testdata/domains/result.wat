;; result.wat: a plugin that answers well-formed XML that is not XMLMSG,
;; as a script written for the proxy's "valid XML content" rule may:
;;   <result>saved</result>
;; Expected outcome: status 0; acknowledged, strict or not, nothing executed.
;; Rebuild: wat2wasm result.wat -o result.wasm
(module
  (import "hookd_v1" "reply_set" (func $reply_set (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "<result>saved</result>")
  (func (export "hookd_v1_on_event") (result i32)
    (drop (call $reply_set (i32.const 0) (i32.const 22)))
    (i32.const 0)))
