package scram

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The RFC 7677 example's password and salt give the verifier PostgreSQL (and Python's hashlib)
// compute for them.
func TestVerifier(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	v, err := Verifier("pencil", salt)
	require.NoError(t, err)
	assert.Equal(t, "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=", v)
}

func TestSalt(t *testing.T) {
	assert.Equal(t, Salt("a", "x"), Salt("a", "x"), "stable for one password")
	assert.NotEqual(t, Salt("a", "x"), Salt("b", "x"))
	assert.Len(t, Salt("a", "x"), 16)
}
