module github.com/pxekit/pxekit/bench

go 1.26.0

require (
	github.com/diskfs/go-diskfs v1.9.4
	github.com/kdomanski/iso9660 v0.4.0
	github.com/pxekit/pxekit v0.0.0
)

require (
	github.com/djherbis/times v1.6.0 // indirect
	github.com/stretchr/testify v1.10.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/pxekit/pxekit => ../
