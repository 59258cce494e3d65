module github.com/pxekit/pxekit/bench

go 1.26.0

require (
	github.com/diskfs/go-diskfs v1.9.4
	github.com/insomniacslk/dhcp v0.0.0-20260901064844-234b97448fae
	github.com/kdomanski/iso9660 v0.4.0
	github.com/pxekit/pxekit v0.0.0
	golang.org/x/sys v0.49.0
)

require (
	github.com/djherbis/times v1.6.0 // indirect
	github.com/josharian/native v1.1.0 // indirect
	github.com/pierrec/lz4/v4 v4.1.26 // indirect
	github.com/stretchr/testify v1.10.0 // indirect
	github.com/u-root/uio v0.0.0-20230220225925-ffce2a382923 // indirect
)

replace github.com/pxekit/pxekit => ../
