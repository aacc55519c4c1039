// device-file for the browser bundle: hypercore-storage uses it only to lock a store directory
// on disk; an in-memory store has none. Creating one is an error.
'use strict'
module.exports = class DeviceFile {
  constructor (filename) {
    throw new Error('device-file: no file system in the browser (' + filename + ')')
  }
}
