package runtime

import (
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"strings"
)

// maxSecretFile bounds a file holding one secret (a DSN).
const maxSecretFile = 16 << 10

// readSecretFile reads a file holding one secret on one line, refused when
// group or others may read it (as key and token files are).
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return "", err
	} else if perm := fi.Mode().Perm(); perm&0o077 != 0 && goruntime.GOOS != "windows" {
		return "", fmt.Errorf("%s is readable by group or others (mode %04o); chmod 600 it", path, perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("%s is larger than %d KiB; it should hold one line", path, maxSecretFile>>10)
	}
	s := strings.TrimSpace(string(b))
	if s == "" || strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("%s must hold one line, got %d bytes", path, len(s))
	}
	return s, nil
}

// dsn returns the PostgreSQL DSN: DSN, or what DSNFile holds.
func (s StoreConfig) dsn() (string, error) {
	if s.Driver != DriverPostgres || s.DSNFile == "" {
		return s.DSN, nil
	}
	dsn, err := readSecretFile(s.DSNFile)
	if err != nil {
		return "", fmt.Errorf("store.dsn_file: %w", err)
	}
	return dsn, nil
}
