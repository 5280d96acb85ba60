package pki

import (
	"crypto/tls"
	"sync"
	"time"
)

// checkEvery bounds how often a running [Server] looks at its certificate's
// expiry: handshakes stay cheap, and a renewal still happens weeks early.
const checkEvery = time.Hour

// Server serves the server certificate of [Ensure] to a TLS listener and
// renews it, while the process runs, once it is within RenewBefore of
// expiring.
type Server struct {
	opts Options
	// onRenew, if set, is told about every renewal (for a log line); a
	// failed renewal keeps serving the old certificate and reports err.
	onRenew func(Result, error)

	mu        sync.Mutex
	cur       Result
	nextCheck time.Time
}

// NewServer runs [Ensure] and returns a Server for its certificate.
// onRenew (may be nil) is called after each later renewal attempt.
func NewServer(opts Options, onRenew func(Result, error)) (*Server, Result, error) {
	res, err := Ensure(opts)
	if err != nil {
		return nil, Result{}, err
	}
	_ = opts.setDefaults() // Ensure succeeded, so these are valid
	s := &Server{opts: opts, onRenew: onRenew, cur: res, nextCheck: opts.Now().Add(checkEvery)}
	return s, res, nil
}

// TLSConfig is the listener configuration: TLS 1.2 or later, the current
// certificate.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.certificate(), nil
		},
	}
}

// certificate returns the certificate to serve, renewing it first when due.
func (s *Server) certificate() *tls.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if now.Before(s.nextCheck) {
		return &s.cur.Cert
	}
	s.nextCheck = now.Add(checkEvery)
	if now.Add(s.opts.RenewBefore).Before(s.cur.NotAfter) {
		return &s.cur.Cert
	}
	res, err := Ensure(s.opts)
	if err == nil {
		s.cur = res
	}
	if s.onRenew != nil {
		s.onRenew(res, err)
	}
	return &s.cur.Cert
}
