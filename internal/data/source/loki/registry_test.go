package loki

import "google.golang.org/protobuf/reflect/protoregistry"

func protoregistryFiles() *protoregistry.Files { return protoregistry.GlobalFiles }
