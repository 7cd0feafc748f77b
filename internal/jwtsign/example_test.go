package jwtsign_test

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/hookrt/hookd/internal/jwtsign"
)

// Load an Ed25519 key from the private directory, sign a token and look at
// its header. Ed25519 signatures are deterministic, so with a fixed key the
// output is too.
func ExampleLoadKey() {
	dir, err := os.MkdirTemp("", "private")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// What `openssl genpkey -algorithm ed25519 -out webhook.pem` would
	// write, here from a fixed seed.
	priv := ed25519.NewKeyFromSeed([]byte("hookd example seed, never use it"))
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		log.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "webhook.pem"), pemBytes, 0o600); err != nil {
		log.Fatal(err)
	}

	key, err := jwtsign.LoadKey(dir, "webhook.pem", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key.Alg())
	fmt.Println(key) // printing a Key never shows key material

	token, err := key.Sign(map[string]any{"iss": "hookd", "jti": "ev-1"})
	if err != nil {
		log.Fatal(err)
	}
	header, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(header))
	// Output:
	// EdDSA
	// {alg=EdDSA kid=ww__9NSTZbXLfFifOJiQgw-Vm6Mnk7vFC_ctdXIAzrI}
	// {"alg":"EdDSA","kid":"ww__9NSTZbXLfFifOJiQgw-Vm6Mnk7vFC_ctdXIAzrI","typ":"JWT"}
}
