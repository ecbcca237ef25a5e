package main

import "os"

func redisAddr() string {
	port := os.Getenv("REDIS_PORT")
	if port == "" {
		return "localhost:6380"
	}
	return "localhost:" + port
}
