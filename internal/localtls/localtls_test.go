package localtls

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func parse(t *testing.T, p string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(p))
	require.NotNil(t, block)
	c, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return c
}

func TestIssueIsDeterministicAndVerifies(t *testing.T) {
	seed := []byte(strings.Repeat("s", 40))
	hosts := []string{"postgres.scalemate-data.svc", "postgres.scalemate-data.svc.cluster.local"}
	a, err := Issue(seed, "scalemate-local", hosts)
	require.NoError(t, err)
	b, err := Issue(seed, "scalemate-local", hosts)
	require.NoError(t, err)
	assert.Equal(t, a, b, "the same seed gives the same PEM: no diff on the next run")
	other, err := Issue([]byte(strings.Repeat("t", 40)), "scalemate-local", hosts)
	require.NoError(t, err)
	assert.NotEqual(t, a.Key, other.Key)

	roots := x509.NewCertPool()
	roots.AddCert(parse(t, a.CA))
	server := parse(t, a.Cert)
	for _, h := range hosts {
		_, err := server.Verify(x509.VerifyOptions{DNSName: h, Roots: roots, CurrentTime: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		assert.NoError(t, err, h)
	}
	_, err = server.Verify(x509.VerifyOptions{DNSName: "redis.scalemate-data.svc", Roots: roots, CurrentTime: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)})
	assert.Error(t, err, "only its own host names")
	assert.Contains(t, a.Key, "BEGIN PRIVATE KEY")
	assert.Equal(t, x509.ECDSAWithSHA256, server.SignatureAlgorithm, "a signature with a digest: SCRAM channel binding hashes the certificate with it")
	assert.Equal(t, x509.ECDSA, server.PublicKeyAlgorithm)
}

func TestIssueRefusesBadInput(t *testing.T) {
	_, err := Issue([]byte("short"), "ca", []string{"h"})
	assert.ErrorContains(t, err, "at least 32 bytes")
	_, err = Issue([]byte(strings.Repeat("s", 32)), "ca", nil)
	assert.ErrorContains(t, err, "at least one host name")
}
