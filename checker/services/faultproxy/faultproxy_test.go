package faultproxy

import (
	"bufio"
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeBroker answers every request frame with a response frame carrying
// its correlation id, except produce requests whose acks field is 0
// (marked here by a body byte of 0), and records the requests it got.
type fakeBroker struct {
	mu   sync.Mutex
	got  []int32 // correlation ids of the requests it handled
	addr string
}

func startFakeBroker(t *testing.T) *fakeBroker {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	b := &fakeBroker{addr: l.Addr().String()}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					frame, err := readFrame(r)
					if err != nil {
						return
					}
					key, corr, _ := requestHeader(frame)
					b.mu.Lock()
					b.got = append(b.got, corr)
					b.mu.Unlock()
					if key == produceKey && frame[len(frame)-1] == 0 {
						continue // acks=0: no response
					}
					if _, err := c.Write(response(corr)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return b
}

func (b *fakeBroker) handled() []int32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int32(nil), b.got...)
}

// request builds a request frame: api_key, api_version 9, the
// correlation id, then a body whose last byte stands for acks.
func request(key int16, corr int32, acks byte) []byte {
	f := make([]byte, 4+8+3)
	binary.BigEndian.PutUint32(f, uint32(len(f)-4))
	binary.BigEndian.PutUint16(f[4:], uint16(key))
	binary.BigEndian.PutUint16(f[6:], 9)
	binary.BigEndian.PutUint32(f[8:], uint32(corr))
	f[len(f)-1] = acks
	return f
}

func response(corr int32) []byte {
	f := make([]byte, 4+4+6)
	binary.BigEndian.PutUint32(f, uint32(len(f)-4))
	binary.BigEndian.PutUint32(f[4:], uint32(corr))
	return f
}

func startProxy(t *testing.T, backend string) (*Proxy, string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	p := &Proxy{}
	go p.Serve(l, backend)
	return p, l.Addr().String()
}

// roundTrip sends a request and returns the correlation id of the
// response, or an error when the connection closed instead.
func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, frame []byte) (int32, error) {
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	if _, err := c.Write(frame); err != nil {
		return 0, err
	}
	resp, err := readFrame(r)
	if err != nil {
		return 0, err
	}
	corr, _ := responseCorrelation(resp)
	return corr, nil
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// TestDropsTheProduceResponseAfterTheBrokerHandledIt: disarmed, every
// frame passes both ways; armed with one drop, other requests still get
// their answers, the next produce request reaches the broker but its
// response does not reach the client, whose connection is closed; the
// next connection's produce passes again.
func TestDropsTheProduceResponseAfterTheBrokerHandledIt(t *testing.T) {
	b := startFakeBroker(t)
	p, addr := startProxy(t, b.addr)

	c, r := dial(t, addr)
	for corr, key := range []int16{3, produceKey, 18} {
		got, err := roundTrip(t, c, r, request(key, int32(corr), 1))
		require.NoError(t, err)
		require.Equal(t, int32(corr), got)
	}

	p.Arm(1)
	got, err := roundTrip(t, c, r, request(3, 10, 1)) // metadata passes while armed
	require.NoError(t, err)
	require.Equal(t, int32(10), got)
	_, err = roundTrip(t, c, r, request(produceKey, 11, 1))
	require.Error(t, err, "the produce response must be dropped and the connection closed")
	require.Contains(t, b.handled(), int32(11), "the broker must have handled the produce request")
	require.Equal(t, "dropped 1 armed 0 produce 2", p.Stats())

	c2, r2 := dial(t, addr)
	got, err = roundTrip(t, c2, r2, request(produceKey, 12, 1))
	require.NoError(t, err, "one drop armed, one dropped: the retry passes")
	require.Equal(t, int32(12), got)
}

// TestAcksZeroDoesNotUseADrop: a produce request that gets no response
// (acks=0) does not use the drop; the next one that is answered does.
func TestAcksZeroDoesNotUseADrop(t *testing.T) {
	b := startFakeBroker(t)
	p, addr := startProxy(t, b.addr)
	p.Arm(1)
	c, r := dial(t, addr)
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err := c.Write(request(produceKey, 1, 0))
	require.NoError(t, err)
	got, err := roundTrip(t, c, r, request(3, 2, 1))
	require.NoError(t, err)
	require.Equal(t, int32(2), got)
	require.Equal(t, "dropped 0 armed 1 produce 1", p.Stats())
	_, err = roundTrip(t, c, r, request(produceKey, 3, 1))
	require.Error(t, err)
	require.Equal(t, "dropped 1 armed 0 produce 2", p.Stats())
}

// TestPipelinedRequests: with several produce requests in flight (a
// producer without idempotence sends up to five), only one response is
// dropped per drop armed, and the responses before it pass.
func TestPipelinedRequests(t *testing.T) {
	b := startFakeBroker(t)
	p, addr := startProxy(t, b.addr)
	c, r := dial(t, addr)
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	for corr := range int32(3) {
		_, err := c.Write(request(produceKey, corr, 1))
		require.NoError(t, err)
	}
	for corr := range int32(3) {
		resp, err := readFrame(r)
		require.NoError(t, err)
		got, _ := responseCorrelation(resp)
		require.Equal(t, corr, got)
	}
	p.Arm(1)
	// One write: the proxy may close the connection before a later one.
	var three []byte
	for corr := int32(3); corr < 6; corr++ {
		three = append(three, request(produceKey, corr, 1)...)
	}
	_, err := c.Write(three)
	require.NoError(t, err)
	_, err = readFrame(r)
	require.Error(t, err, "the first response after arming is dropped and the connection closed")
	// How many of the three the proxy read before it closed varies.
	require.Contains(t, p.Stats(), "dropped 1 armed 0 ")
}

func TestControlCommands(t *testing.T) {
	p := &Proxy{}
	require.Equal(t, "dropped 0 armed 2 produce 0", p.command([]string{"arm", "2"}))
	require.Equal(t, "dropped 0 armed 3 produce 0", p.command([]string{"arm", "1"}))
	require.Equal(t, "dropped 0 armed 3 produce 0", p.command([]string{"stats"}))
	require.Equal(t, "dropped 0 armed 0 produce 0", p.command([]string{"reset"}))
	require.Contains(t, p.command([]string{"arm", "x"}), "error")
	require.Contains(t, p.command([]string{"drop"}), "error")
}
