// Package scram computes PostgreSQL SCRAM-SHA-256 password verifiers, so that a role's password
// can be set (ALTER ROLE ... PASSWORD '<verifier>') without the password itself reaching the
// server as statement text, where an error or a statement log would record it.
package scram

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// Iterations is PostgreSQL's default scram_iterations.
const Iterations = 4096

// Verifier is the SCRAM-SHA-256 verifier of password with salt, as PostgreSQL stores it in
// pg_authid: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (RFC 5802, RFC 7677).
func Verifier(password string, salt []byte) (string, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, Iterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("deriving the salted password: %w", err)
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", Iterations, b64(salt), b64(stored[:]), b64(mac(salted, "Server Key"))), nil
}

// Salt is a 16-byte salt derived from the password and a context: stable for one password (a
// verifier that changed on every run would rewrite the role on every update), different for
// every generated password.
func Salt(password, context string) []byte {
	h := hmac.New(sha256.New, []byte(password))
	h.Write([]byte("scalemate-scram-salt:" + context))
	return h.Sum(nil)[:16]
}
