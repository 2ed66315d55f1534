package natsserver

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Config describes the server to start.
type Config struct {
	// StoreDir holds JetStream's streams (jobs survive a restart). Required.
	StoreDir string
	// Addr is the client listen address, host:port. It defaults to a free
	// port on 127.0.0.1.
	Addr string
	// ReadyTimeout bounds how long Start waits for the server to accept
	// clients. It defaults to 10 s.
	ReadyTimeout time.Duration
}

// Server is a running embedded NATS server.
type Server struct {
	ns *server.Server
}

// Start launches the server and waits until it accepts clients.
func Start(cfg Config) (*Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("natsserver: StoreDir is required")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 10 * time.Second
	}
	host, portText, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("natsserver: address %q: %w", cfg.Addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("natsserver: port %q: %w", portText, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "streamfront",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		NoSigs:     true, // the process's signals belong to main, not to NATS
		NoLog:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("natsserver: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(cfg.ReadyTimeout) {
		ns.Shutdown()
		return nil, fmt.Errorf("natsserver: not ready to accept clients after %s", cfg.ReadyTimeout)
	}
	return &Server{ns: ns}, nil
}

// URL is the nats:// URL clients connect to.
func (s *Server) URL() string { return s.ns.ClientURL() }

// Close stops the server and waits until it has (JetStream flushed).
func (s *Server) Close() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
