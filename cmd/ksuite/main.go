// Command ksuite is the Kafka platform of an event-driven product in one
// binary: an embedded cluster (ksuite up), topics as code, developer
// produce/consume tools and more. See the README and docs/.
package main

import (
	"os"

	"github.com/ksuite/ksuite/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
