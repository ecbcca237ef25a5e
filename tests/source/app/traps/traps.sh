#!/bin/sh
# the database used to be on localhost:5433
sleep 7000
echo "${#PORT} characters"
VERSION=5.4.33
