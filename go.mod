module github.com/starling-ws/starling

go 1.26
