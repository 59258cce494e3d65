package nbp

import "net"

// raspberryPiOUIs are the IEEE MA-L blocks (OUIs) registered to the
// Raspberry Pi Foundation and Raspberry Pi (Trading) Ltd, from the IEEE
// oui.txt registry: B8-27-EB (Foundation; Pi 1–3), DC-A6-32 and E4-5F-01
// (Pi 4), 28-CD-C1, 2C-CF-67 and D8-3A-DD (Pi 5, CM, Pico W).
var raspberryPiOUIs = [...][3]byte{
	{0xb8, 0x27, 0xeb},
	{0xdc, 0xa6, 0x32},
	{0xe4, 0x5f, 0x01},
	{0x28, 0xcd, 0xc1},
	{0x2c, 0xcf, 0x67},
	{0xd8, 0x3a, 0xdd},
}

// IsRaspberryPiMAC reports whether mac is a 6-byte address in one of the
// OUIs registered to Raspberry Pi. A Pi's boot ROM sends option 93 arch 0
// as if it were an x86 BIOS; its MAC address is how a server tells it
// apart.
func IsRaspberryPiMAC(mac net.HardwareAddr) bool {
	if len(mac) != 6 {
		return false
	}
	oui := [3]byte(mac[:3])
	for _, o := range raspberryPiOUIs {
		if o == oui {
			return true
		}
	}
	return false
}
