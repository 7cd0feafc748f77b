package hostfn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/hookrt/hookd/hostapi"
	"github.com/tetratelabs/wazero/api"
)

// jwtSign implements jwt_sign(key, key_len, claims, claims_len).
func jwtSign(ctx context.Context, c *Call, mem api.Memory, stack []uint64) int32 {
	key, ok := viewGuest(mem, arg(stack, 0), arg(stack, 1))
	if !ok || !inMemory(mem, arg(stack, 2), arg(stack, 3)) {
		return hostapi.ErrMemory
	}
	c.clearResult()
	name := string(key)
	if c.grants == nil || c.grants.Sign == nil || !slices.Contains(c.grants.Keys, name) {
		c.hostLog(hostapi.LevelWarn, "jwt_sign denied: key "+quote(name)+" is not granted to this plugin (keys = [...])")
		return hostapi.ErrDenied
	}
	if arg(stack, 3) > hostapi.MaxClaims {
		return hostapi.ErrTooLarge
	}
	raw, ok := readGuest(mem, arg(stack, 2), arg(stack, 3))
	if !ok {
		return hostapi.ErrMemory
	}
	claims, err := parseClaims(raw)
	if err != nil {
		c.hostLog(hostapi.LevelWarn, "jwt_sign refused: "+err.Error())
		return hostapi.ErrBadArgument
	}
	now := time.Now().Unix()
	claims["iat"] = now
	claims["exp"] = now + int64(hostapi.TokenLifetime/time.Second)
	if _, ok := claims["jti"]; !ok && c.eventID != "" {
		claims["jti"] = c.eventID
	}
	token, err := c.grants.Sign(ctx, name, claims)
	if err != nil {
		c.hostLog(hostapi.LevelError, "jwt_sign failed: "+err.Error())
		if ctx.Err() != nil {
			return hostapi.ErrTimeout
		}
		return hostapi.ErrFailed
	}
	c.counters.Signatures++
	return c.setResult([]byte(token))
}

// parseClaims decodes one JSON object of claims, keeping numbers as written,
// and refuses iat and exp, which the host sets.
func parseClaims(raw []byte) (map[string]any, error) {
	if err := checkObject(raw); err != nil {
		return nil, errors.New("claims are " + err.Error())
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var claims map[string]any
	if err := d.Decode(&claims); err != nil {
		return nil, errors.New("claims are not a valid JSON object")
	}
	if d.More() {
		return nil, errors.New("claims have data after the object")
	}
	for _, k := range []string{"iat", "exp"} {
		if _, ok := claims[k]; ok {
			return nil, errors.New("claims set " + k + "; the host sets iat and exp (iat + 300 s)")
		}
	}
	return claims, nil
}

// quote quotes s for a log line, cut short.
func quote(s string) string {
	b, _ := json.Marshal(cut(s, 128))
	return string(b)
}
