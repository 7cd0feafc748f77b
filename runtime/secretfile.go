package runtime

import (
	"fmt"

	"github.com/hookrt/hookd/internal/secretfile"
)

// maxSecretFile bounds a file holding one secret (a DSN).
const maxSecretFile = 16 << 10

// dsn returns the PostgreSQL DSN: DSN, or what DSNFile holds.
func (s StoreConfig) dsn() (string, error) {
	if s.Driver != DriverPostgres || s.DSNFile == "" {
		return s.DSN, nil
	}
	dsn, err := secretfile.Read(s.DSNFile, maxSecretFile, "one line")
	if err != nil {
		return "", fmt.Errorf("store.dsn_file: %w", err)
	}
	return dsn, nil
}
