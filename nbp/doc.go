// Package nbp identifies PXE clients from their DHCP requests and chooses
// the network boot program each one loads.
package nbp
