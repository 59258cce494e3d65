// Package pxelinux holds rules of pxelinux's behaviour that more than one
// pxekit package needs: dhcp describes option 97 by them, and bootmenu
// predicts pxelinux's configuration file search with them. Keeping each
// rule here, once, keeps the two from disagreeing.
package pxelinux

// AcceptsUUID reports whether pxelinux looks for a configuration file
// named after the client machine identifier uuid (DHCP option 97 after its
// type byte, or the SMBIOS system UUID), in wire order. pxelinux takes a
// UUID as valid only when byte 6, where the RFC 4122 version nibble is,
// lies in 0x10–0xef (syslinux core/sysappend.c, is_valid_uuid); the nil
// UUID and all-ones UUID fail that test, and so does any uuid that is not
// 16 bytes long.
func AcceptsUUID(uuid []byte) bool {
	return len(uuid) == 16 && uuid[6] >= 0x10 && uuid[6] < 0xf0
}
