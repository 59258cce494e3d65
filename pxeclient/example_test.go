package pxeclient_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/pxekit/pxekit/pxeclient"
)

// Boot one emulated OVMF machine on eth1 and print how far it got.
func ExampleClient_Boot() {
	conn, err := pxeclient.Listen("eth1") // port 68: needs root
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	p, _ := pxeclient.ProfileByName("ovmf-pxe")
	c := &pxeclient.Client{
		Profile: p,
		MAC:     net.HardwareAddr{0x02, 0, 0, 0, 0, 1},
		Conn:    conn,
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep := c.Boot(ctx)
	fmt.Println(rep.Stage, rep.BootFile, rep.ConfigFile, rep.Err)
}

func ExampleProfiles() {
	for _, p := range pxeclient.Profiles() {
		v, _ := p.Discover.Option(60)
		fmt.Printf("%-10s %-33s 4011:%v http:%v\n", p.Name, v, p.Proxy4011, p.HTTP)
	}
	// Output:
	// bios-ipxe  PXEClient:Arch:00000:UNDI:002001  4011:true http:false
	// ipxe-efi   PXEClient:Arch:00007:UNDI:003010  4011:true http:false
	// ovmf-pxe   PXEClient:Arch:00007:UNDI:003000  4011:false http:false
	// aavmf-pxe  PXEClient:Arch:00011:UNDI:003000  4011:false http:false
	// ovmf-http  HTTPClient:Arch:00016:UNDI:003000 4011:false http:true
	// aavmf-http HTTPClient:Arch:00019:UNDI:003000 4011:false http:true
}
