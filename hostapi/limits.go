package hostapi

import "time"

// Fixed limits of the ABI.
const (
	// MaxEvent bounds the names and values of one event. hookd admits no
	// larger event (hook.MaxEventBytes), so a plugin is never handed one.
	MaxEvent           = 64 << 10
	MaxLogLine         = 1 << 10  // bytes kept of one log line
	MaxLogLines        = 32       // log lines per call, then ErrLimit
	MaxErrorMessage    = 1 << 10  // bytes kept of the error_set message
	MaxHTTPRequest     = 64 << 10 // bytes of one http_request request object
	MaxClaims          = 64 << 10 // bytes of one jwt_sign claims object
	MaxRedirects       = 5        // redirects followed by one http_request
	MaxHostCallRecords = 256      // host calls recorded per call (all are counted)
	TokenLifetime      = 300 * time.Second
	InitTimeout        = 5 * time.Second // _initialize and hookd_v1_init together
)

// Defaults and bounds of the per-plugin limits ([domain.plugin]).
const (
	DefaultMemoryPages     = 256 // 64 KiB pages: 16 MiB; Go guests need at least 64
	DefaultTimeout         = 250 * time.Millisecond
	DefaultMaxReply        = 16 << 10
	DefaultInstances       = 4
	DefaultHTTPTimeout     = 5 * time.Second
	DefaultHTTPMaxRequests = 4
	DefaultHTTPMaxResponse = 1 << 20

	MaxMemoryPages = 32768    // 2 GiB: keeps every valid length below 2^31
	MaxInstances   = 256      // warm instances of one plugin
	MaxBinary      = 10 << 20 // bytes of a plugin binary
)

// Limits of plugin state (state_get, state_set, state_incr, state_delete;
// ABI.md, "Plugin state"). The per-domain limits are set in [domain.plugin]
// (state_max_value, state_max_keys, state_max_bytes), between the Min and
// Max bounds here.
const (
	// MaxStateKey bounds a key: 1 to 256 bytes of printable ASCII
	// (0x20–0x7E), so that every key can be shown as it is.
	MaxStateKey = 256
	// MaxStateTTL is the longest ttl_ms of state_set and state_incr; 0
	// means no expiry.
	MaxStateTTL = 30 * 24 * time.Hour

	DefaultStateMaxValue = 64 << 10 // bytes of one value
	DefaultStateMaxKeys  = 10000    // keys of one domain
	DefaultStateMaxBytes = 16 << 20 // bytes of one domain's keys and values together

	// MinStateMaxValue leaves room for any integer state_incr writes (at
	// most 20 bytes: "-9223372036854775808").
	MinStateMaxValue = 32
	MaxStateMaxValue = 1 << 20
	MaxStateMaxKeys  = 1000000
	MinStateMaxBytes = 1 << 10
	MaxStateMaxBytes = 1 << 30
)
