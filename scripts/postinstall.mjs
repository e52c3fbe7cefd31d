console.log("postinstall stub")
