// Package isofs reads ISO 9660 images as an [io/fs.FS].
package isofs
