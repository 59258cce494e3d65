package pxeclient

import (
	"context"
	"net"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestListenBuffer: Listen's socket options give the shared DHCP socket
// a receive buffer for a storm's broadcast replies (a storm of 1,000
// overflowed the default one). Checked on a loopback socket of port 0,
// with the options Listen sets on port 68.
func TestListenBuffer(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("needs root (SO_RCVBUFFORCE) and CI is set")
		}
		t.Skip("needs root (SO_RCVBUFFORCE)")
	}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = clientSockopts(int(fd), "") }); err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	rc, err := pc.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	var gerr error
	rc.Control(func(fd uintptr) { got, gerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF) })
	if gerr != nil {
		t.Fatal(gerr)
	}
	if got < ListenBuffer { // Linux reports twice what was set
		t.Errorf("SO_RCVBUF = %d, want at least %d", got, ListenBuffer)
	}
}
