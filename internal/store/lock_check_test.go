package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckLock: CheckLock fails while a DB holds the file, with the
// message OpenSQLite gives, and passes before the first open (creating
// nothing) and after the close.
func TestCheckLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookd.db")
	if err := CheckLock(path); err != nil {
		t.Fatalf("a store never opened: %v", err)
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("CheckLock created the lock file: %v", err)
	}
	db, err := OpenSQLite(context.Background(), path, SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkErr := CheckLock(path)
	_, openErr := OpenSQLite(context.Background(), path, SQLiteOptions{})
	if !errors.Is(checkErr, ErrInUse) || openErr == nil || checkErr.Error() != openErr.Error() {
		t.Errorf("while open: CheckLock %v; a second open %v; want the same ErrInUse", checkErr, openErr)
	}
	if !strings.HasPrefix(checkErr.Error(), path+" is in use by another hookd process") {
		t.Errorf("message: %v", checkErr)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := CheckLock(path); err != nil {
		t.Errorf("after close: %v", err)
	}
}
