package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// maxSecret bounds a secret read from stdin: a password, not a file.
const maxSecret = 4 << 10

// readSecret asks for a secret on the terminal without echoing it.
func (a *app) readSecret(prompt string) (string, error) {
	if !isTerminal(a.io.In) {
		return "", errors.New("stdin is not a terminal")
	}
	fmt.Fprint(a.io.Err, prompt)
	defer fmt.Fprintln(a.io.Err)
	if f, ok := a.io.In.(*os.File); ok {
		b, err := term.ReadPassword(int(f.Fd()))
		return string(b), err
	}
	// A terminal that is not a file (an embedding program's, a test's):
	// read byte by byte so nothing after this line is consumed.
	var line []byte
	b := make([]byte, 1)
	for len(line) < maxSecret {
		n, err := a.io.In.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			line = append(line, b[0])
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return strings.TrimRight(string(line), "\r"), nil
}

// readSecretStdin reads a secret piped on stdin: its first line, as
// `docker login --password-stdin` does.
func (a *app) readSecretStdin(flag string) (string, error) {
	data, err := io.ReadAll(io.LimitReader(a.io.In, maxSecret+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	if len(data) > maxSecret {
		return "", fmt.Errorf("%s: stdin holds more than %d bytes: pipe only the password", flag, maxSecret)
	}
	s, _, _ := strings.Cut(string(data), "\n")
	s = strings.TrimRight(s, "\r")
	if s == "" {
		return "", fmt.Errorf("%s: stdin is empty: pipe the password, e.g. printf %%s \"$PW\" | ksuite ...", flag)
	}
	return s, nil
}
