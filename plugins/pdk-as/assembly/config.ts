import { readConfig, readStatus } from "./internal/host";
import { PdkError, Result } from "./errors";
import { errResult, hostError, okResult } from "./internal/results";
import { JSONKind, JSONValue } from "./json";

/**
 * config reads the plugin's config (its [domain.config] table in hookd's
 * config.toml, as a JSON object; {} when it has none).
 *
 *     const cfg = pdk.config();
 *     if (!cfg.ok) return pdk.failPermanently(cfg.error!.message);
 *     const c = cfg.value;
 *     const unknown = c.only(["block", "secret"]);
 *     if (unknown !== null) return pdk.failPermanently(unknown.message);
 *     const block = c.strings("block");   // Result<string[]>
 *     const secret = c.string("secret");  // Result<string>
 *
 * # Notes
 *
 *   - The config does not change during an instance's life (a new config
 *     means new instances): read it once and keep what you need.
 *   - Errors start with "pdk: config: ".
 */
export function config(): Result<Config> {
  const raw = readConfig();
  if (raw === null) return errResult<Config>(hostError("config_read", readStatus));
  const v = JSONValue.parseBytes(raw);
  if (!v.ok) return errResult<Config>(v.error!.wrap("pdk: config"));
  const root = v.value;
  if (root.kind != JSONKind.Object) {
    return errResult<Config>(new PdkError("pdk: config: cannot use " + root.describe() + " as an object"));
  }
  return okResult<Config>(new Config(root));
}

/**
 * Config is the plugin's config object. Its accessors return the member's
 * value, the default when the member is absent (or null), and an error
 * naming the member when it has another type:
 * `pdk: config: limit: cannot use a string as i64`.
 */
export class Config {
  constructor(
    /** root is the whole config object, for what the accessors do not cover. */
    public root: JSONValue,
  ) {}

  private member(name: string): JSONValue | null {
    const v = this.root.get(name);
    return v === null || v.isNull ? null : v;
  }

  private wrap<T>(name: string, r: Result<T>): Result<T> {
    if (r.ok) return r;
    return errResult<T>(r.error!.wrap("pdk: config: " + name));
  }

  /**
   * only reports the first member whose name is not in names, as
   * `pdk: config: unknown field "blocked"`, so that a misspelt key does not
   * go unnoticed; null when every member is known.
   */
  only(names: string[]): PdkError | null {
    const keys = this.root.keys();
    for (let i = 0; i < keys.length; i++) {
      if (!names.includes(keys[i])) {
        return new PdkError("pdk: config: unknown field \"" + keys[i] + "\"");
      }
    }
    return null;
  }

  /** has reports whether the config has the member name (and it is not null). */
  has(name: string): bool {
    return this.member(name) !== null;
  }

  /** get returns the member name, or null. */
  get(name: string): JSONValue | null {
    return this.member(name);
  }

  /** string returns the string member name, or def when absent. */
  string(name: string, def: string = ""): Result<string> {
    const v = this.member(name);
    if (v === null) return okResult<string>(def);
    return this.wrap<string>(name, v.asString());
  }

  /** strings returns the array of strings name, or [] when absent. */
  strings(name: string): Result<string[]> {
    const v = this.member(name);
    if (v === null) return okResult<string[]>([]);
    const r = v.asStrings();
    if (r.ok) return r;
    // "[2]: cannot use …" reads as block[2]: …, like the Go SDK's paths
    const msg = r.error!.message;
    return errResult<string[]>(new PdkError("pdk: config: " + name + (msg.startsWith("[") ? "" : ": ") + msg));
  }

  /** bool returns the boolean member name, or def when absent. */
  bool(name: string, def: bool = false): Result<bool> {
    const v = this.member(name);
    if (v === null) return okResult<bool>(def);
    return this.wrap<bool>(name, v.asBool());
  }

  /** number returns the number member name as an f64, or def when absent. */
  number(name: string, def: f64 = 0): Result<f64> {
    const v = this.member(name);
    if (v === null) return okResult<f64>(def);
    return this.wrap<f64>(name, v.asF64());
  }

  /** integer returns the member name, a number written as an integer, or def when absent. */
  integer(name: string, def: i64 = 0): Result<i64> {
    const v = this.member(name);
    if (v === null) return okResult<i64>(def);
    return this.wrap<i64>(name, v.asI64());
  }
}
