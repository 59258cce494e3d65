// Package dhcp encodes and decodes the DHCP options of PXE and answers PXE
// clients as a proxyDHCP or full DHCP server.
package dhcp
