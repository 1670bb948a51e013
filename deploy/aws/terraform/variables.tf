variable "name" {
  description = "Name prefix of every resource."
  type        = string
  default     = "apitap"
}

variable "vpc_id" {
  description = "VPC of the mirror sources and of the collectors."
  type        = string
}

variable "vpc_cidr_blocks" {
  description = "CIDRs allowed to send VXLAN (UDP 4789) and to reach the health port: the VPC's (and peered VPCs' with mirror sources)."
  type        = list(string)
}

variable "existing_nlb_arn" {
  description = "ARN of an NLB that already fronts the collectors (e.g. the one the AWS Load Balancer Controller made for deploy/k8s). When set, no NLB, target group or security group is created here."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Private subnets of the NLB, one per zone that has collectors (ignored with existing_nlb_arn)."
  type        = list(string)
  default     = []
}

variable "collector_target_type" {
  description = "How collectors are registered in the target group: \"ip\" (pods, containers) or \"instance\" (EC2)."
  type        = string
  default     = "ip"

  validation {
    condition     = contains(["ip", "instance"], var.collector_target_type)
    error_message = "collector_target_type must be \"ip\" or \"instance\"."
  }
}

variable "collector_targets" {
  description = "Collector IPs or instance IDs to register (leave empty when something else registers them, e.g. an Auto Scaling group)."
  type        = list(string)
  default     = []
}

variable "vxlan_port" {
  description = "UDP port of VXLAN. AWS Traffic Mirroring always sends to 4789."
  type        = number
  default     = 4789
}

variable "health_port" {
  description = "The collectors' TCP health port (apitap collect --health-port). The NLB health-checks it because UDP cannot be checked."
  type        = number
  default     = 8080
}

variable "health_check_path" {
  description = "HTTP path of the health check on health_port."
  type        = string
  default     = "/healthz"
}

variable "cross_zone" {
  description = "Cross-zone load balancing on the NLB (keeps mirroring going when one zone's collectors are down; costs inter-zone traffic)."
  type        = bool
  default     = true
}

variable "source_eni_ids" {
  description = "Network interfaces to mirror (one traffic mirror session each): the API servers' or their load balancers' ENIs."
  type        = list(string)
}

variable "session_number" {
  description = "Session priority on each source ENI (1-32766, lowest first); change it when the ENIs already have mirror sessions."
  type        = number
  default     = 1
}

variable "virtual_network_id" {
  description = "VXLAN VNI of the sessions (the collector keys flows by VNI). null lets AWS pick one per session."
  type        = number
  default     = null
}

variable "packet_length" {
  description = "Bytes of each packet to mirror (truncation). null mirrors whole packets, which HTTP analysis needs; truncation leaves gaps that apitap counts (vxlan_truncated, tcp_gap)."
  type        = number
  default     = null
}

variable "api_ports" {
  description = "TCP port ranges of the mirrored APIs (the server side). Plain-text HTTP only: TLS payloads can't be analyzed."
  type = list(object({
    from = number
    to   = number
  }))
  default = [
    { from = 80, to = 80 },
    { from = 8080, to = 8080 },
  ]
}

variable "client_cidr_blocks" {
  description = "Clients whose requests to the APIs are mirrored."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "server_cidr_blocks" {
  description = "The API servers' addresses (the mirrored ENIs')."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
