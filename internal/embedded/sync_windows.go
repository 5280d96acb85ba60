package embedded

// syncDir has nothing to do on Windows: a directory cannot be opened for
// syncing, and NTFS journals its entries itself.
func syncDir(string) error { return nil }
