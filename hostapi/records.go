package hostapi

import "time"

// LogLine is one line of a plugin's log during a call.
type LogLine struct {
	// Level is one of the Level constants.
	Level int32
	// Source is where the line comes from: "log" (the log host function),
	// "stdout" or "stderr" (WASI), or "host" (a host function explaining
	// a refusal or a failure).
	Source string
	Text   string
}

// HostCall records one host function call, for the developer CLI (hookd
// plugin run).
type HostCall struct {
	Name     string
	Status   int64 // a status code, a length, or a clock value
	Start    time.Time
	Duration time.Duration
}

// Outcome is what one call of a plugin's [EntryPoint] produced, for the
// host to judge and for the developer CLI (hookd plugin run) to show.
type Outcome struct {
	// Status is what hookd_v1_on_event returned: [StatusHandled],
	// [StatusRetry], [StatusFail], or another value (read as a retry).
	Status int32
	// Reply is the reply set with reply_set; nil when none was set
	// (<nomessage/>).
	Reply []byte
	// Error is the message set with error_set, for statuses 1 and 2.
	Error string
	// Logs are the plugin's log lines of this call (log, stdout, stderr)
	// and the host's notes on refused or failed host calls.
	Logs []LogLine
	// HostCalls records the host calls made (the first
	// [MaxHostCallRecords]).
	HostCalls []HostCall
	// Duration is the time spent in the guest, from the call of the entry
	// point to its return; waiting for a free instance is not included.
	Duration time.Duration
}
