// Package tftp is a read-only TFTP server over an [io/fs.FS].
package tftp
