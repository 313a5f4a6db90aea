// Package faultproxy is a TCP proxy that understands Kafka's framing and
// loses the broker's answer to a produce request on purpose: the fault a
// producer's retries must survive without writing a batch twice.
//
// It runs inside the Kafka service's container (services builds it as a
// static binary and starts it next to the broker), in front of listeners
// whose advertised address is the proxy's, so that a client that
// bootstrapped through it stays behind it. The checker arms it with
// `faultproxy arm N` (run in the container): the next N responses to
// produce requests that arrive are read from the broker, so the broker
// has written the batch, then discarded, and both connections closed, as
// a network failure between the broker's write and its acknowledgement
// would. The producer sees its connection drop and retries the batch:
// without idempotence the broker writes it a second time; with it the
// broker recognises the producer id and sequence and writes nothing.
//
// It imports only the standard library: services compiles this file on
// its own into the binary it copies into the container.
package faultproxy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Path is where the binary is in the Kafka service's container.
const Path = "/tmp/delab-faultproxy"

// Control is the loopback address, inside the container, of the proxy's
// control port, which `faultproxy arm|stats|reset` talk to.
const Control = "127.0.0.1:9199"

// produceKey is the api_key of a Produce request.
const produceKey = 0

// maxFrame bounds a frame the proxy buffers: larger than any request a
// broker accepts (socket.request.max.bytes is 100 MiB).
const maxFrame = 200 << 20

// Proxy forwards connections to a broker and drops produce responses
// while armed.
type Proxy struct {
	// budget is how many more produce responses to drop.
	budget atomic.Int64
	// dropped counts the responses dropped since the last reset; produce
	// counts the produce requests forwarded.
	dropped, produce atomic.Int64
}

// Arm adds n to the responses to drop.
func (p *Proxy) Arm(n int64) { p.budget.Add(n) }

// Reset disarms the proxy and zeroes its counts.
func (p *Proxy) Reset() {
	p.budget.Store(0)
	p.dropped.Store(0)
	p.produce.Store(0)
}

// Stats says how many produce responses were dropped since the last
// reset, how many are still to drop, and how many produce requests
// were forwarded.
func (p *Proxy) Stats() string {
	return fmt.Sprintf("dropped %d armed %d produce %d", p.dropped.Load(), p.budget.Load(), p.produce.Load())
}

// take uses one drop of the budget, if any is left.
func (p *Proxy) take() bool {
	for {
		b := p.budget.Load()
		if b <= 0 {
			return false
		}
		if p.budget.CompareAndSwap(b, b-1) {
			p.dropped.Add(1)
			return true
		}
	}
}

// Serve accepts connections on l and forwards each to backend until l
// is closed.
func (p *Proxy) Serve(l net.Listener, backend string) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go p.handle(c, backend)
	}
}

// readFrame reads one Kafka frame: a 4-byte big-endian size, then that
// many bytes.
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > maxFrame {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	frame := make([]byte, 4+n)
	copy(frame, size[:])
	if _, err := io.ReadFull(r, frame[4:]); err != nil {
		return nil, err
	}
	return frame, nil
}

// requestHeader returns a request frame's api_key and correlation_id
// (every request header version starts with int16 api_key, int16
// api_version, int32 correlation_id).
func requestHeader(frame []byte) (key int16, corr int32, ok bool) {
	if len(frame) < 12 {
		return 0, 0, false
	}
	return int16(binary.BigEndian.Uint16(frame[4:6])), int32(binary.BigEndian.Uint32(frame[8:12])), true
}

// responseCorrelation returns a response frame's correlation_id (every
// response header version starts with it).
func responseCorrelation(frame []byte) (int32, bool) {
	if len(frame) < 8 {
		return 0, false
	}
	return int32(binary.BigEndian.Uint32(frame[4:8])), true
}

// handle forwards one client connection. Requests go to the broker
// frame by frame; the correlation ids of produce requests sent while the
// proxy is armed are noted, and the first response to one of them that
// comes back while drops are left is discarded and both connections
// closed. A produce request with acks=0 gets no response, so it only
// stays noted.
func (p *Proxy) handle(client net.Conn, backend string) {
	defer client.Close()
	broker, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer broker.Close()
	var mu sync.Mutex
	targets := map[int32]bool{}
	go func() {
		defer broker.Close()
		defer client.Close()
		r := bufio.NewReaderSize(client, 64<<10)
		for {
			frame, err := readFrame(r)
			if err != nil {
				return
			}
			if key, corr, ok := requestHeader(frame); ok && key == produceKey {
				p.produce.Add(1)
				if p.budget.Load() > 0 {
					mu.Lock()
					targets[corr] = true
					mu.Unlock()
				}
			}
			if _, err := broker.Write(frame); err != nil {
				return
			}
		}
	}()
	r := bufio.NewReaderSize(broker, 64<<10)
	for {
		frame, err := readFrame(r)
		if err != nil {
			return
		}
		if corr, ok := responseCorrelation(frame); ok {
			mu.Lock()
			target := targets[corr]
			delete(targets, corr)
			mu.Unlock()
			if target && p.take() {
				// The broker has answered, so it has handled the batch;
				// the client never hears of it.
				return
			}
		}
		if _, err := client.Write(frame); err != nil {
			return
		}
	}
}

// serveControl answers one command per line on the control port:
// "arm N", "reset", "stats".
func (p *Proxy) serveControl(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil && line == "" {
				return
			}
			fmt.Fprintln(c, p.command(strings.Fields(line)))
		}()
	}
}

func (p *Proxy) command(args []string) string {
	switch {
	case len(args) == 2 && args[0] == "arm":
		n, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil || n < 0 {
			return "error: arm takes a count"
		}
		p.Arm(n)
	case len(args) == 1 && args[0] == "reset":
		p.Reset()
	case len(args) == 1 && args[0] == "stats":
	default:
		return fmt.Sprintf("error: unknown command %q", strings.Join(args, " "))
	}
	return p.Stats()
}

// Main is the binary's main: `serve LISTEN=BACKEND...` runs the proxy;
// `arm N`, `reset` and `stats` ask a running one and print its answer.
func Main(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: faultproxy serve LISTEN=BACKEND... | arm N | reset | stats")
	}
	if args[0] != "serve" {
		c, err := net.Dial("tcp", Control)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := fmt.Fprintln(c, strings.Join(args, " ")); err != nil {
			return err
		}
		answer, err := io.ReadAll(c)
		if err != nil {
			return err
		}
		fmt.Print(string(answer))
		if strings.HasPrefix(string(answer), "error") {
			return errors.New(strings.TrimSpace(string(answer)))
		}
		return nil
	}
	p := &Proxy{}
	ctl, err := net.Listen("tcp", Control)
	if err != nil {
		return err
	}
	errs := make(chan error, len(args))
	go func() { errs <- p.serveControl(ctl) }()
	for _, pair := range args[1:] {
		listen, backend, ok := strings.Cut(pair, "=")
		if !ok {
			return fmt.Errorf("%q is not LISTEN=BACKEND", pair)
		}
		l, err := net.Listen("tcp", listen)
		if err != nil {
			return err
		}
		go func() { errs <- p.Serve(l, backend) }()
	}
	return <-errs
}
