// Package localtls issues the local tier's certificate authority and server certificates from a
// seed (a random value the program keeps as a Pulumi secret). The ECDSA P-256 keys are derived
// from the seed and Go signs deterministically (RFC 6979) without a random source, so the same
// seed gives the same PEM on every run: no diff, no provider beyond pulumi-random, and the keys
// live only in the state's secrets and the cluster's Secrets. Not Ed25519: its certificates
// have no signature digest, so PostgreSQL's SCRAM channel binding (SCRAM-SHA-256-PLUS, which
// libpq and pgx choose over TLS) fails with them.
package localtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"time"
)

// Bundle is a server's certificate and key, and the CA that signed it (PEM).
type Bundle struct {
	CA, Cert, Key string
}

// Validity is fixed, so that issuing is a pure function of its inputs.
var (
	notBefore = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)
)

// derive is a P-256 key from seed and purpose: the first hash of them, with a counter, that is
// a valid scalar (below the group order; all but about 2^-32 of hashes are).
func derive(seed []byte, purpose string) (*ecdsa.PrivateKey, error) {
	for i := byte(0); ; i++ {
		sum := sha256.Sum256(append([]byte(purpose+"\x00"+string(i)+"\x00"), seed...))
		if key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), sum[:]); err == nil {
			return key, nil
		} else if i == 255 {
			return nil, err
		}
	}
}

func serial(seed []byte, purpose string) *big.Int {
	sum := sha256.Sum256(append([]byte("serial\x00"+purpose+"\x00"), seed...))
	return new(big.Int).SetBytes(sum[:16])
}

// Issue makes a CA named caName and a server certificate for hosts (DNS names), both derived
// from seed (at least 32 bytes).
func Issue(seed []byte, caName string, hosts []string) (Bundle, error) {
	if len(seed) < 32 {
		return Bundle{}, errors.New("localtls: the seed must be at least 32 bytes")
	}
	if len(hosts) == 0 {
		return Bundle{}, errors.New("localtls: a server certificate needs at least one host name")
	}
	caKey, err := derive(seed, "ca")
	if err != nil {
		return Bundle{}, err
	}
	ca := &x509.Certificate{
		SerialNumber: serial(seed, "ca"), Subject: pkix.Name{CommonName: caName},
		NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	// A nil random source: deterministic ECDSA signatures (RFC 6979).
	caDER, err := x509.CreateCertificate(nil, ca, ca, caKey.Public(), caKey)
	if err != nil {
		return Bundle{}, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return Bundle{}, err
	}
	key, err := derive(seed, "server\x00"+hosts[0])
	if err != nil {
		return Bundle{}, err
	}
	server := &x509.Certificate{
		SerialNumber: serial(seed, "server\x00"+hosts[0]), Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts,
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(nil, server, caCert, key.Public(), caKey)
	if err != nil {
		return Bundle{}, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Bundle{}, err
	}
	enc := func(kind string, b []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: b}))
	}
	return Bundle{CA: enc("CERTIFICATE", caDER), Cert: enc("CERTIFICATE", der), Key: enc("PRIVATE KEY", pkcs8)}, nil
}
