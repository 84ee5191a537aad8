app_name = "nexora_qbo"
app_title = "Nexora QBO"
app_publisher = "Nexora QBO"
app_description = "Two-way QuickBooks Online sync for ERPNext v15"
app_email = "dev@nexora.example"
app_license = "mit"
required_apps = ["frappe/erpnext"]

# The Frappe wiring (doc_events, scheduler_events, install hooks, before_tests) is added by the
# ERPNext adapter layer; see nexora_qbo/erpnext/.
