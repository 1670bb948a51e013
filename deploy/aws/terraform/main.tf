# AWS VPC Traffic Mirroring into apitap collectors:
#   source ENIs --(session, filter: API TCP both ways)--> mirror target (NLB, UDP 4789)
#   --> collectors (`apitap collect --vxlan 0.0.0.0:4789 --health-port 8080`) --> Kafka.
# The NLB is created here, or an existing one (e.g. from deploy/k8s) is reused via existing_nlb_arn.

locals {
  create_nlb = var.existing_nlb_arn == null
  nlb_arn    = local.create_nlb ? aws_lb.mirror[0].arn : var.existing_nlb_arn
  tags       = merge({ "app.kubernetes.io/part-of" = "apitap", "managed-by" = "terraform" }, var.tags)

  # One accept rule per (API port range, client CIDR, server CIDR), numbered 100, 101, ... in each
  # direction: ingress = requests arriving at the mirrored server ENI (destination port = API port),
  # egress = responses leaving it (source port = API port). Both are needed to pair exchanges.
  rule_combos = flatten([
    for p in var.api_ports : [
      for c in var.client_cidr_blocks : [
        for s in var.server_cidr_blocks : { from = p.from, to = p.to, client = c, server = s }
      ]
    ]
  ])
  filter_rules = { for i, r in local.rule_combos : tostring(100 + i) => r }
}

# ---- security groups (only with a new NLB) --------------------------------------------------------

resource "aws_security_group" "nlb" {
  count       = local.create_nlb ? 1 : 0
  name        = "${var.name}-mirror-nlb"
  description = "apitap traffic mirror target: VXLAN from the VPC"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-mirror-nlb" })
}

resource "aws_vpc_security_group_ingress_rule" "nlb_vxlan" {
  for_each          = local.create_nlb ? toset(var.vpc_cidr_blocks) : toset([])
  security_group_id = aws_security_group.nlb[0].id
  description       = "VXLAN (traffic mirroring)"
  ip_protocol       = "udp"
  from_port         = var.vxlan_port
  to_port           = var.vxlan_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "nlb_to_collectors" {
  for_each = local.create_nlb ? {
    vxlan  = { protocol = "udp", port = var.vxlan_port }
    health = { protocol = "tcp", port = var.health_port }
  } : {}
  security_group_id            = aws_security_group.nlb[0].id
  description                  = "to collectors: ${each.key}"
  ip_protocol                  = each.value.protocol
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.collector[0].id
}

# Attach to the collectors (EC2 instances, or pods through security groups for pods).
resource "aws_security_group" "collector" {
  count       = local.create_nlb ? 1 : 0
  name        = "${var.name}-collector"
  description = "apitap collectors: VXLAN and health checks from the mirror NLB"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-collector" })
}

resource "aws_vpc_security_group_ingress_rule" "collector_from_nlb" {
  for_each = local.create_nlb ? {
    vxlan  = { protocol = "udp", port = var.vxlan_port }
    health = { protocol = "tcp", port = var.health_port }
  } : {}
  security_group_id            = aws_security_group.collector[0].id
  description                  = "from the mirror NLB: ${each.key}"
  ip_protocol                  = each.value.protocol
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.nlb[0].id
}

resource "aws_vpc_security_group_egress_rule" "collector_all" {
  count             = local.create_nlb ? 1 : 0
  security_group_id = aws_security_group.collector[0].id
  description       = "Kafka, DNS and the rest"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

# ---- the NLB ----------------------------------------------------------------------------------------

resource "aws_lb" "mirror" {
  count                            = local.create_nlb ? 1 : 0
  name                             = substr("${var.name}-mirror", 0, 32)
  internal                         = true
  load_balancer_type               = "network"
  subnets                          = var.subnet_ids
  security_groups                  = [aws_security_group.nlb[0].id]
  enable_cross_zone_load_balancing = var.cross_zone
  tags                             = local.tags
}

resource "aws_lb_target_group" "vxlan" {
  count                  = local.create_nlb ? 1 : 0
  name                   = substr("${var.name}-vxlan", 0, 32)
  port                   = var.vxlan_port
  protocol               = "UDP"
  target_type            = var.collector_target_type
  vpc_id                 = var.vpc_id
  deregistration_delay   = 30
  connection_termination = true

  # UDP can't be health-checked: check the collectors' HTTP health port instead.
  health_check {
    enabled             = true
    protocol            = "HTTP"
    port                = tostring(var.health_port)
    path                = var.health_check_path
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = local.tags
}

resource "aws_lb_listener" "vxlan" {
  count             = local.create_nlb ? 1 : 0
  load_balancer_arn = aws_lb.mirror[0].arn
  port              = var.vxlan_port
  protocol          = "UDP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.vxlan[0].arn
  }

  tags = local.tags
}

resource "aws_lb_target_group_attachment" "collector" {
  for_each         = local.create_nlb ? toset(var.collector_targets) : toset([])
  target_group_arn = aws_lb_target_group.vxlan[0].arn
  target_id        = each.value
  port             = var.vxlan_port
}

# ---- traffic mirroring ------------------------------------------------------------------------------

resource "aws_ec2_traffic_mirror_target" "collectors" {
  description               = "${var.name}: apitap collectors (VXLAN ${var.vxlan_port}/udp)"
  network_load_balancer_arn = local.nlb_arn
  tags                      = local.tags
}

resource "aws_ec2_traffic_mirror_filter" "api" {
  description = "${var.name}: TCP to and from the mirrored APIs"
  tags        = local.tags
}

resource "aws_ec2_traffic_mirror_filter_rule" "requests" {
  for_each                 = local.filter_rules
  description              = "requests to API port ${each.value.from}-${each.value.to}"
  traffic_mirror_filter_id = aws_ec2_traffic_mirror_filter.api.id
  traffic_direction        = "ingress"
  rule_number              = tonumber(each.key)
  rule_action              = "accept"
  protocol                 = 6
  source_cidr_block        = each.value.client
  destination_cidr_block   = each.value.server

  destination_port_range {
    from_port = each.value.from
    to_port   = each.value.to
  }
}

resource "aws_ec2_traffic_mirror_filter_rule" "responses" {
  for_each                 = local.filter_rules
  description              = "responses from API port ${each.value.from}-${each.value.to}"
  traffic_mirror_filter_id = aws_ec2_traffic_mirror_filter.api.id
  traffic_direction        = "egress"
  rule_number              = tonumber(each.key)
  rule_action              = "accept"
  protocol                 = 6
  source_cidr_block        = each.value.server
  destination_cidr_block   = each.value.client

  source_port_range {
    from_port = each.value.from
    to_port   = each.value.to
  }
}

# One session per source ENI. The ENI IDs must be known at plan time (for_each keys).
resource "aws_ec2_traffic_mirror_session" "source" {
  for_each                 = toset(var.source_eni_ids)
  description              = "${var.name}: mirror ${each.value}"
  network_interface_id     = each.value
  session_number           = var.session_number
  traffic_mirror_filter_id = aws_ec2_traffic_mirror_filter.api.id
  traffic_mirror_target_id = aws_ec2_traffic_mirror_target.collectors.id
  virtual_network_id       = var.virtual_network_id
  packet_length            = var.packet_length
  tags                     = merge(local.tags, { Name = "${var.name}-${each.value}" })
}
