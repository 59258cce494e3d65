package pxeclient

import (
	"errors"
	"net"
	"net/netip"
	"sync"
)

// Conn is a DHCP client socket (port 68) shared by any number of clients:
// it sends their requests and hands each reply to the client whose
// transaction ID it carries. It is safe for concurrent use.
type Conn struct {
	pc      net.PacketConn
	mu      sync.Mutex
	waiters map[uint32]chan []byte
	done    chan struct{}
	err     error
}

// NewConn wraps pc, which should be bound to port 68 with SO_BROADCAST set
// (see [Listen]), and starts reading from it until [Conn.Close].
func NewConn(pc net.PacketConn) *Conn {
	c := &Conn{pc: pc, waiters: make(map[uint32]chan []byte), done: make(chan struct{})}
	go c.read()
	return c
}

func (c *Conn) read() {
	defer close(c.done)
	buf := make([]byte, 1500)
	for {
		n, _, err := c.pc.ReadFrom(buf)
		if err != nil {
			c.mu.Lock()
			c.err = err
			for _, ch := range c.waiters {
				close(ch)
			}
			c.waiters = nil
			c.mu.Unlock()
			return
		}
		if n < 240 || buf[0] != 2 {
			continue
		}
		xid := uint32(buf[4])<<24 | uint32(buf[5])<<16 | uint32(buf[6])<<8 | uint32(buf[7])
		c.mu.Lock()
		ch := c.waiters[xid]
		c.mu.Unlock()
		if ch == nil {
			continue
		}
		select {
		case ch <- append([]byte(nil), buf[:n]...):
		default: // the client is not keeping up; a lost reply is retransmitted
		}
	}
}

var errConnClosed = errors.New("pxeclient: DHCP connection closed")

// subscribe registers a receiver for replies with transaction ID xid.
func (c *Conn) subscribe(xid uint32) (chan []byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiters == nil {
		return nil, errConnClosed
	}
	ch := make(chan []byte, 16)
	c.waiters[xid] = ch
	return ch, nil
}

func (c *Conn) unsubscribe(xid uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiters != nil {
		delete(c.waiters, xid)
	}
}

func (c *Conn) send(b []byte, to netip.AddrPort) error {
	_, err := c.pc.WriteTo(b, net.UDPAddrFromAddrPort(to))
	return err
}

// Close closes the socket and waits for the reader to stop.
func (c *Conn) Close() error {
	err := c.pc.Close()
	<-c.done
	return err
}

// ListenBuffer is the receive buffer [Listen] asks for on Linux. One
// socket hears the broadcast replies of every machine a [Conn] emulates,
// where real machines each have their own; with the default 208 KiB a
// storm of 1,000 lost 304 replies there (UdpRcvbufErrors), each costing
// its machine a 4 s retransmission.
const ListenBuffer = 8 << 20
