package main

import (
	_ "github.com/hetznercloud/hcloud-go/v2/hcloud"
	_ "github.com/invopop/jsonschema"
	_ "github.com/spf13/cobra"
	_ "go.yaml.in/yaml/v3"
)

func main() {}
