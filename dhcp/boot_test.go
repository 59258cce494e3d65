package dhcp

import (
	"context"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

func TestStaticBoot(t *testing.T) {
	want := Boot{File: "pxelinux.0", ConfigFile: "pxelinux.cfg/default"}
	got, err := StaticBoot(want).Decide(context.Background(), &dhcpv4.DHCPv4{})
	if err != nil || got != want {
		t.Fatalf("StaticBoot(%+v).Decide = %+v, %v", want, got, err)
	}
}

func TestProxyStyleString(t *testing.T) {
	for s, want := range map[ProxyStyle]string{ProxyDirect: "direct", ProxyBINL: "binl", 7: "ProxyStyle(7)"} {
		if got := s.String(); got != want {
			t.Errorf("ProxyStyle(%d).String() = %q, want %q", s, got, want)
		}
	}
}
